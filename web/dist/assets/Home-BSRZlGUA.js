import{A as e,n}from"./index-BD1drl3w.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
