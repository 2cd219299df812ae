import{A as e,n}from"./index-D-QZKRCg.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
