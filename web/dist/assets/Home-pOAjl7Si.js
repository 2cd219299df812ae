import{A as e,n}from"./index-CdWGBvZs.js";function r(){return e(()=>n("/channels",{replace:!0}),[]),null}export{r as default};
